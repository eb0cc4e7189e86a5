__version__ = "0.2.0.dev0"  # the unreleased 0.2.0 of CHANGELOG.md (PEP 440 development release)
