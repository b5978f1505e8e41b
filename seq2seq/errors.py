"""User-facing errors: raised for bad input or config, printed as one line without a traceback."""


class UserError(Exception):
    """A problem the user can fix (a file, a config value, a checkpoint). The message is one line."""


class ConfigError(UserError):
    """A config key has a wrong value; the message names the key and what is allowed."""


class DataError(UserError):
    """A data file is missing or malformed; the message names the file (and line)."""


class CheckpointError(UserError):
    """A checkpoint is missing, corrupt, foreign or does not match the config."""
