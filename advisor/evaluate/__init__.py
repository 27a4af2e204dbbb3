"""Measure candidate models on the user's own labelled images (accuracy, calibration, transfer,
invariance), each figure with a bootstrap interval; results feed the ranking as measured scores."""
