"""Police Curriculum Planner."""
