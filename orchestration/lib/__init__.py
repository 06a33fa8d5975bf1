"""Pure, unit-tested logic: event contract, landing, register parsing, sample-data generator."""
