"""The only room that combines edi/, models/ and transports/: the billing system's behaviour.

* :mod:`pipelines.rules` — pure rules (coding, scrubbing, the claim lifecycle, remittance matching
  and posting outcome, denial categories, eligibility on file, underpayments, filing deadlines).
* :mod:`pipelines.usecases` — one function per thing an operator or the nightly run does, taking
  its dependencies (config, a unit of work, a mailbox, ``as_of``) as arguments.
* :mod:`pipelines.cli` — the ``edi`` command: parser, commands, rendering; the only place that
  knows the terminal and the ``App`` context.
* :mod:`pipelines.simulator` — the clearinghouse simulator (X12 through a mailbox, nothing else).
* :mod:`pipelines.demo` — ``edi demo`` beside its sample data.
* ``config``, ``errors`` and ``logs`` — the configuration file, the error tree, logging setup.
"""
