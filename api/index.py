from productinfo import create_app

app = create_app()
