"""The Feast repo of TalentLoop: feature definitions (``definitions``) and the ``RepoConfig`` built from
Settings (``config``). Both import feast: import them only where a store is needed."""
