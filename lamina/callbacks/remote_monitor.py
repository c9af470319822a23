"""``RemoteMonitor``: POST each epoch's logs to a server as JSON."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from lamina.callbacks.callback import Callback

try:  # optional: Keras posts with requests; the standard library does as well
    import requests
except ImportError:
    requests = None


def _post(url, data, as_json, headers, timeout=10.0):
    """POST ``data`` as a JSON body or as a form; raises ``OSError`` when the
    server cannot be reached."""
    if requests is not None:
        try:
            if as_json:
                requests.post(url, json=data, headers=headers, timeout=timeout)
            else:
                requests.post(url, data, headers=headers, timeout=timeout)
        except requests.exceptions.RequestException as error:
            raise OSError(str(error)) from error
        return
    if as_json:
        body, content_type = json.dumps(data).encode(), "application/json"
    else:
        body = urllib.parse.urlencode(data).encode()
        content_type = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=timeout):
        pass


class RemoteMonitor(Callback):
    """POSTs ``{"epoch": epoch, **logs}`` to ``root + path`` at each epoch end.

    The logs go as a JSON body (``send_as_json=True``) or, as in Keras by
    default, as a form field ``field`` holding the JSON text. Uses ``requests``
    when installed, the standard library otherwise; an unreachable server only
    warns.

    Args:
        root: the server's root URL.
        path: the path the events are posted to.
        field: the form field of the JSON text (``send_as_json=False``).
        headers: extra HTTP headers (a dict).
        send_as_json: send the logs as the JSON body itself.

    Example:
    >>> import lamina as keras
    >>> keras.callbacks.RemoteMonitor("http://127.0.0.1:9000").path
    '/publish/epoch/end/'
    """

    def __init__(
        self,
        root="http://localhost:9000",
        path="/publish/epoch/end/",
        field="data",
        headers=None,
        send_as_json=False,
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            is_array = isinstance(value, (np.ndarray, np.generic))
            send[key] = value.item() if is_array else value
        data = send if self.send_as_json else {self.field: json.dumps(send)}
        try:
            _post(self.root + self.path, data, self.send_as_json, self.headers)
        except OSError:  # urllib's URLError and requests' errors alike
            warnings.warn(
                f"Could not reach RemoteMonitor root server at {self.root}",
                stacklevel=2,
            )
