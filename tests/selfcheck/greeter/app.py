"""A greeting service: GET /greetings/<name> answers {"greeting": "Hello, <name>!", "letters": <count>}."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_NAME = 20


def greeting(name):
    """The greeting for a name, or None when the name is too long."""
    if len(name) > MAX_NAME:
        return None
    return {"greeting": f"Hello, {name}!", "letters": len(name)}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            return self.answer(200, {"status": "ready"})
        if self.path.startswith("/greetings/"):
            found = greeting(self.path.removeprefix("/greetings/"))
            if found is None:
                return self.answer(400, {"error": f"a name has at most {MAX_NAME} letters"})
            return self.answer(200, found)
        return self.answer(404, {"error": "not found"})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
