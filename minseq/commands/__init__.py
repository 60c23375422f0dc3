"""The subcommands of ``python -m minseq``, one module each: ``add_arguments(parser)`` and
``run(args) -> exit status``. minseq.cli lists them in one table and imports a module only
when its command runs; nothing else imports them. What train, evaluate and recommend share
lives beside them: their flags (``flags``), the data flags to a table (``loading``), the order
of a run and its report (``runner``)."""
