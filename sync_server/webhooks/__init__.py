"""The webhook inbox: verify, store once, answer fast, process in a job."""
