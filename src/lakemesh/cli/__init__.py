"""The lakemesh command line (Typer + Rich); every command goes through the SDK."""
