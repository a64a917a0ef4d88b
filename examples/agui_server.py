"""The demo team served to AG-UI frontends, with the live view in the browser.

`create_app` serves the team (on the embedded scripted model: offline, no API key) over the
project's own protocol, over AG-UI at `/agui/team` (any AG-UI client: CopilotKit, `@ag-ui/client`,
another miniagents tree through `AGUIAgent`), and the live view at `/ui`: pick the agent, ask,
and watch the call tree grow, each call's text streaming in its node, the reply in reply order
beside it.

Run it with `python examples/agui_server.py [--port 8000]` and open http://127.0.0.1:8000/ui.
"""

from __future__ import annotations

import argparse

import uvicorn

from miniagents_lc.demo.session import scripted_model_agent
from miniagents_lc.demo.team import build_team
from miniagents_lc.remote import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    app = create_app([build_team(scripted_model_agent)])
    print(f"Live view: http://{args.host}:{args.port}/ui   AG-UI: POST /agui/team")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
