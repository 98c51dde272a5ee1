"""The A2A client at the end of Agentor's streaming guide (shared/seeds/004), as written there
but for the URL, which the test passes: `python a2a_stream_client.py URL`. It sends a
message with no `role` and no `messageId`, so the server needs `--lenient-messages`."""

import json
import sys

import requests

url = sys.argv[1]
payload = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "message/stream",
    "params": {
        "message": {
            "parts": [
                {"kind": "text", "text": "Explain machine learning"}
            ]
        }
    }
}

response = requests.post(url, json=payload, stream=True)

for line in response.iter_lines(decode_unicode=True):
    if line.startswith("data: "):
        event = json.loads(line[6:])
        result = event.get("result", {})

        # Task creation
        if "id" in result and "status" in result:
            print(f"Task created: {result['id']}")

        # Artifact updates (streaming content)
        elif "artifact" in result:
            artifact = result["artifact"]
            if artifact.get("parts"):
                text = artifact["parts"][0].get("text", "")
                print(text, end="", flush=True)

        # Status updates
        elif "status" in result:
            status = result["status"]
            if result.get("final"):
                print(f"\n\nCompleted with status: {status['state']}")
