DETACH _compact;  -- noqa: PRS
