"""The benchmark library: one folder per benchmark family, the shared benchmark helpers, and
the import paths lmms-eval task files expect here (`_task_utils`).

A regular package so that `lmms_eval.taskdefs.library.set_task_roots` can put users'
`--include_path` folders on its `__path__`; nothing is imported here.
"""
