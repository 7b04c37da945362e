"""The bottom layer: what every other package uses, one copy each.

:mod:`~worldgym.core.errors` (the root of WorldGym's exceptions),
:mod:`~worldgym.core.amounts` (token amounts in wei, parsed and printed exactly),
:mod:`~worldgym.core.files` (durable writes), :mod:`~worldgym.core.canonical`
(canonical JSON), :mod:`~worldgym.core.prompts` (chat prompt to token ids),
:mod:`~worldgym.core.inputs` (checked user input) and :mod:`~worldgym.core.schemas`
(the documents participants exchange). Nothing here imports another WorldGym package.
"""
