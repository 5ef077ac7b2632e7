"""X12 for behavioral-health billing: syntax, one module or package per transaction set, validation.

Where things are (each public module lists its API in ``__all__``; modules starting with ``_`` are
private and re-exported where the public API needs them):

* :mod:`edi.x12` — delimiters, the streaming segment reader, envelope checking (:func:`open_x12`
  yields :class:`edi.x12.TransactionSet`), the writer (:func:`edi.x12.build_interchange`).
* :mod:`edi.x837p` — 837P claims we send: builder (loops ``_loop_1000a_submitter`` ..
  ``_loop_2400_service_line`` in :mod:`edi.x837p.build`), parser :func:`edi.x837p.parse_837p`.
* :mod:`edi.x270` / :mod:`edi.x276` — eligibility and claim status inquiries we send: builders
  and parsers (:func:`edi.x270.parse_270`, :func:`edi.x276.parse_276`).
* :mod:`edi.x271`, :mod:`edi.x277` (277CA and 277), :mod:`edi.x835`, :mod:`edi.x999` (999 and
  TA1) — what comes back: parsers, builders (the clearinghouse simulator and tests use them).
* Every builder takes ``envelope=EnvelopeSpec(isa_control, gs_control, created, st_control,
  usage, sender, receiver)`` (:mod:`edi._envelope`, re-exported by each set module).
* :mod:`edi.inspect` — any file as the ``edi inspect --json`` tree; :mod:`edi.validate` —
  implementation-guide validation through pyx12; :mod:`edi.codes` — code lists;
  :mod:`edi.errors` — the exception tree.

Nothing here opens a database or a socket, and nothing happens at import time.
"""
