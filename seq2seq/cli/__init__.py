"""Command-line entry points: thin mains that compose and check the config with Hydra and call the command's
function in seq2seq/commands (run_train, run_translate, run_evaluate, run_score, run_prepare, run_average,
run_serve). (seq2seq/config uses Hydra too, to compose configs for tools and tests.)"""
