"""Fika's domain core: what web, jobs and the command line share.

Models and the session, settings as a typed object, one function per change of state, who takes
part, the one outbox writer. It imports ``pairing`` and ``integrations``; it never imports
``web``, ``jobs`` or ``fika``, and never reads ``flask.current_app`` or a request.
"""
