"""The FastAPI app for HR systems and HR partners."""
