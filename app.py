"""Start the web chat: ``python app.py`` locally (127.0.0.1:7860) or on Hugging Face Spaces (0.0.0.0:7860).

GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override the address; the app itself lives in ``bot/web.py``.
"""

import sys

from bot.errors import RolebotError
from bot.web import launch

if __name__ == "__main__":
    try:
        launch()
    except RolebotError as exc:  # a taken port, an unusable index or model: one line that says what to do
        sys.exit(f"Error: {exc}")
