"""Training-data synthesis (``followir synth``) and judge filtering (``followir filter``)."""
