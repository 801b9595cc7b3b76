from talentloop.cli import app

app()
