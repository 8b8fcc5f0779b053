"""A scripted Airbyte source for failure tests: its config says what it prints and how it ends.

`spec` answers a one-property spec. Config: {"pid_file": path, "messages": [AirbyteMessage, ...], "exit_code": int, "hang": bool, "remove_dir": path}. `discover` answers
one stream, `items`; `read` removes `remove_dir` if given, prints the messages and then exits
with exit_code (os._exit, like a killed process: no clean-up), or sleeps when `hang` is set.
`pid_file` gets its pid and the path of its config file.
"""

import json
import os
import shutil
import sys
import time

CATALOG = {
    "type": "CATALOG",
    "catalog": {
        "streams": [
            {
                "name": "items",
                "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": ["id"],
                "source_defined_primary_key": [["id"]],
            }
        ]
    },
}


SPEC = {
    "type": "SPEC",
    "spec": {"connectionSpecification": {"type": "object", "required": ["pid_file"],
                                         "properties": {"pid_file": {"type": "string"}}}},
}


def main() -> None:
    command = sys.argv[1]
    if command == "spec":
        print(json.dumps(SPEC), flush=True)
        return
    config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
    if command == "discover":
        print(json.dumps(CATALOG), flush=True)
        return
    if command == "read":
        with open(config["pid_file"], "w") as fp:
            fp.write(f"{os.getpid()}\n{sys.argv[sys.argv.index('--config') + 1]}")
        if config.get("remove_dir"):
            shutil.rmtree(config["remove_dir"])
        for message in config.get("messages", []):
            sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        if config.get("hang"):
            time.sleep(300)
        os._exit(config.get("exit_code", 0))


if __name__ == "__main__":
    main()
