"""lmms-eval's shared task helpers, at the import paths its task folders use
(`lmms_eval.tasks._task_utils.<module>`).

Each module is a thin layer over this project's own code where that already implements
the rule (filters, choice letters, VQA normalisation, MMMU parsing), and reproduces
lmms-eval's documented behaviour where it differs, saying why. docs/compat.md lists what
exists and each deliberate difference. Importing any of them is cheap: no model, SDK or
network code runs until a function needs it.
"""
