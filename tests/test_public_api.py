import abplan


def test_public_api_is_pinned() -> None:
    assert sorted(abplan.__all__) == sorted(
        [
            "Ablation",
            "AbplanError",
            "Evidence",
            "Finding",
            "InputError",
            "Paper",
            "PendingRequests",
            "Plan",
            "Section",
            "Usage",
            "__version__",
            "aplan_paper",
            "load_paper",
            "plan_paper",
        ]
    )
    for name in abplan.__all__:
        assert hasattr(abplan, name)
