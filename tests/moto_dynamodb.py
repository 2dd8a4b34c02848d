"""moto's DynamoDB for the test suite's second run (scripts/test).

moto_server serves each request on its own thread, and its DynamoDB checks a write's condition
and then writes without a lock, so two conditional writes racing on one item can both succeed:
a lost update DynamoDB itself never allows. Served one request at a time, as here, moto's writes
are atomic per request, which is the contract the store is written against.

Usage: python tests/moto_dynamodb.py PORT
"""

import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

if __name__ == "__main__":
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)
