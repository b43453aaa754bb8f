"""The course site (``autograder serve``): students sign in, download assignments, submit notebooks and read
their feedback; instructors follow the class. See docs/architecture.md (the site's map) and docs/deploy-site.md.
"""
