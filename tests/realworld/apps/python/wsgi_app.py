# A WSGI app for gunicorn with one slow route: `gunicorn -b 127.0.0.1:PORT wsgi_app:app`.
import time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.8)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]
