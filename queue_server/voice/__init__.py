"""Voice calling (语音叫号): announcements stitched from short recorded clips, and the URL that serves them."""

from __future__ import annotations

from queue_server.voice.speech import announcement_path, valid_number

__all__ = ["announcement_path", "valid_number"]
