"""LightGBM models: features as of a cut-off, training, evaluation, SHAP explanations, model store, scoring.

No Dagster in here: the assets in assets/models.py call these functions.
"""
