"""The commands, one module each, every one a function of its typed config: run_train, run_translate,
run_evaluate, run_score, run_prepare, run_average, run_serve. The console scripts (seq2seq/cli) only turn argv into
that config and call them; tests and tools call them directly."""
