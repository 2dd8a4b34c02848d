"""moto's DynamoDB for the test suite's second run (scripts/test).

moto_server serves each request on its own thread, and its DynamoDB checks a write's condition
and then writes without a lock, so two conditional writes racing on one item can both succeed:
a lost update DynamoDB itself never allows. Here requests still arrive on their own threads (so
idle keep-alive connections block nobody) but are handled one at a time, which makes each of
moto's writes atomic, the contract the store is written against.

moto's TransactWriteItems also deep-copies every table it touches before writing, so that it can
put the old table back if the transaction fails: a cost in proportion to all the table holds, which
made the suite's bulk tests (thousands of numbers, dozens of transactions) take tens of minutes.
`transact_write_items` below keeps the same all-or-nothing contract by saving only the items the
transaction names and putting those back on failure.

Usage: python tests/moto_dynamodb.py PORT
"""

import copy
import sys
import threading

from werkzeug.serving import run_simple

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


class _TablesByReference:
    """moto's module `copy`, except that tables are not copied (see transact_write_items)."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _item_key(backend, op):
    table = backend.get_table(op["TableName"])
    if "Key" in op:
        return op["Key"]
    names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
    return {n: op["Item"][n] for n in names if n in op["Item"]}


def transact_write_items(self, transact_items):
    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        try:
            key = _item_key(self, op)
            before = self.get_item(op["TableName"], key)
        except Exception:  # moto itself reports a bad table or key below
            continue
        saved.append((op["TableName"], key, copy.deepcopy(before.to_json()["Attributes"]) if before else None))
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        for table_name, key, before in reversed(saved):
            if before is None:
                if self.get_item(table_name, key) is not None:
                    self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before)
        raise


dynamodb_models.copy = _TablesByReference
DynamoDBBackend.transact_write_items = transact_write_items


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
