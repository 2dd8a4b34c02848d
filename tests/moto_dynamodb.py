"""moto's DynamoDB for the test suite's second run (scripts/test).

moto_server serves each request on its own thread, and its DynamoDB checks a write's condition
and then writes without a lock, so two conditional writes racing on one item can both succeed:
a lost update DynamoDB itself never allows. Here requests still arrive on their own threads (so
idle keep-alive connections block nobody) but are handled one at a time, which makes each of
moto's writes atomic, the contract the store is written against.

Usage: python tests/moto_dynamodb.py PORT
"""

import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


if __name__ == "__main__":
    port = int(sys.argv[1])
    app = OneAtATime(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
