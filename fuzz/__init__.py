"""Coverage-guided fuzzing of every parser (``make fuzz``); see docs/fuzzing.md.

- :mod:`fuzz.targets`: one ``one_input(data)`` function per parser, asserting its contract.
- :mod:`fuzz.corpus`: where seed corpora and kept crashing inputs live.
- :mod:`fuzz.mutate`: a small deterministic mutator (the CI-short run, no atheris needed).
- :mod:`fuzz.run`: the atheris runner (``python -m fuzz.run --seconds 60 [target ...]``).
- :mod:`fuzz.make_seeds`: regenerates ``fuzz/seeds/`` from the captured vectors and encoders.
"""
