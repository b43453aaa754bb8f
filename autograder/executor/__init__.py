"""Executors: where ``grade()`` runs for the batch (and, later, the course site).

One interface, several places to run: ``submit(job) -> Future[Result]``, ``jobs()`` (what is queued and
running), ``stop()`` (Ctrl-C) and ``close()``. ``LocalExecutor`` is a pool of worker processes on this
machine; ``autograder.executor.celery.CeleryExecutor`` sends the jobs to Celery workers on other machines
(imported only when asked for: Celery is not needed to grade locally). Whatever happens to a job, its Future yields a Result (a dead worker's says why), so a caller
never has one submission's failure stop the others.
"""

from autograder.executor.job import Executor, Job, JobState, Priority, Refused, State, failure_result
from autograder.executor.local import LocalExecutor, run_in_worker_process

__all__ = ["Executor", "Job", "JobState", "Priority", "Refused", "State", "LocalExecutor", "failure_result", "run_in_worker_process"]
