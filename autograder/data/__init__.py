"""The SIGNS data set: build the course's HDF5 files from the Sign Language Digits photos.

``signs`` holds the build and the checks (``autograder data build`` / ``autograder data verify``),
``download`` fetches and unpacks the pinned upstream archive, and ``manifest.json`` lists the SHA-256
of every photo the build may use.
"""
