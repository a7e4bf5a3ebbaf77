"""Bounds facekit puts on a boto3 client: the call's deadline and the size and shape of answers.

botocore has per-socket timeouts and its own retries, but no total deadline and no bound on
an answer. :func:`guard_client` adds both through botocore's documented event hooks, plus the
guarded connection pools of :mod:`facekit._http`:

* ``before-send``: no attempt (first or retry) starts after the call's deadline;
* ``needs-retry``: botocore's own retry decision (standard, adaptive or legacy mode) is kept, but
  a retry whose backoff would end past the deadline is not made: the last error is raised;
* ``before-parse``: an answer over ``max_response_bytes`` is refused before botocore parses it,
  and a 2xx answer that is not JSON (an HTML page, an empty or cut body, JSON nested too deeply
  to parse) is a :class:`~facekit.ProviderError` instead of the ``{}`` botocore makes of it.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from facekit._errors import ProviderError
from facekit._http import guard_botocore_client, parse_json
from facekit._limits import current_limits

__all__ = ["guard_client"]

_MARK: Final = "_facekit_guarded"
PROVIDER: Final = "aws"


def _before_send(request: Any = None, **_: Any) -> None:
    deadline = current_limits().deadline
    if deadline is not None:
        deadline.check("the request to AWS", provider=PROVIDER)


def _before_parse(response_dict: Any = None, operation_model: Any = None, **_: Any) -> None:
    if not isinstance(response_dict, dict):
        return
    body = response_dict.get("body")
    limit = current_limits().max_response_bytes
    if isinstance(body, (bytes, bytearray)) and len(body) > limit:
        raise ProviderError(
            f"AWS answered with {len(body):,} bytes, more than the {limit:,} accepted; a face answer is at most a "
            "few hundred KB, so this is not one: check endpoint_url, or raise max_response_bytes",
            provider=PROVIDER,
            status=response_dict.get("status_code"),
        )
    status = response_dict.get("status_code")
    protocol = getattr(getattr(operation_model, "service_model", None), "protocol", None)
    if protocol != "json" or not isinstance(status, int) or not 200 <= status < 300:
        return
    name = getattr(operation_model, "name", "the operation")
    try:
        parse_json(body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        text = bytes(body or b"")[:200].decode("utf-8", "replace")
        raise ProviderError(
            f"AWS answered {name} with HTTP {status} and a body that is not JSON ({exc}); this is not an answer "
            "from the service (a proxy's page, or a cut body): check endpoint_url and the network",
            provider=PROVIDER,
            status=status,
            body=text,
        ) from exc


def _deadline_aware_retries(client: Any) -> None:
    """Wrap the client's ``needs-retry`` handlers so that no backoff outlasts the call's deadline.

    botocore sleeps the delay its retry handler returns, uninterruptibly; facekit keeps the
    handler's decision and delay, and answers "no retry" when the delay would end after the
    deadline. A client whose event internals differ keeps its handlers unwrapped.
    """
    events = client.meta.events
    emitter = getattr(events, "_emitter", events)
    trie = getattr(emitter, "_handlers", None)
    service = client.meta.service_model.service_id.hyphenize()
    event = f"needs-retry.{service}"
    try:
        found = list(trie.prefix_search(event)) if trie is not None else []
    except Exception:  # another botocore layout: leave it
        return
    handlers: list[Any] = []
    for handler in found:
        try:
            events.unregister(event, handler)
        except Exception:  # registered on a wider event name: it keeps running as it is
            continue
        handlers.append(handler)
    if not handlers:
        return

    def needs_retry(**kwargs: Any) -> Any:
        for handler in handlers:
            delay = handler(**kwargs)
            if delay is not None:
                break
        else:
            return None
        deadline = current_limits().deadline
        if deadline is not None and float(delay) >= deadline.remaining():
            return None
        return delay

    events.register(event, needs_retry, unique_id=f"facekit-needs-retry-{service}")


def guard_client(client: Any) -> Any:
    """Add facekit's bounds to a boto3 client (once; a client passed in by the caller too)."""
    if getattr(client, _MARK, False):
        return client
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        events.register("before-send", _before_send, unique_id="facekit-deadline")
        events.register("before-parse", _before_parse, unique_id="facekit-answer-bounds")
        _deadline_aware_retries(client)
    guard_botocore_client(client)
    with contextlib.suppress(AttributeError):  # a client that takes no attributes is guarded again next time
        setattr(client, _MARK, True)
    return client
