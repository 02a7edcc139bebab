"""The task machinery: reading task YAMLs, the index of names, task configs, and the tasks
that turn documents into prompts. The benchmark library itself lives in `lmms_eval.tasks`."""
