"""Model classes (fit / predict / explain) and their MLflow pyfunc wrappers."""
