"""Extra fixtures on top of the generated data: a 40-course copy of the bench plan (for the
plan book target) and 10,000-record training batches."""

import uuid
from datetime import date, timedelta

from sqlmodel import Session, select

from app.models.plans import PlanCreate, PlanItem
from app.services import plans


def forty_course_plan(session: Session, source_id: int) -> int:
    """A plan holding the first 40 items of the bench plan (for the 40-course book target)."""
    plan = plans.create(
        session,
        PlanCreate(
            code="bench-40",
            name="Benchmark programme: 40 courses",
            audience="initial",
            academic_year="2027/2028",
            terms=6,
            term_hour_budget=400,
        ),
        actor="bench",
    )
    items = session.exec(
        select(PlanItem).where(PlanItem.plan_id == source_id).order_by(PlanItem.id).limit(40)
    ).all()
    session.add_all(
        PlanItem(plan_id=plan.id, course_id=i.course_id, term=i.term, mandatory=True) for i in items
    )
    session.commit()
    return plan.id


class RecordBatches:
    """Each call posts a new 10,000-record batch (one completion per person, a new date each time)."""

    def __init__(self, client, course: str = "HR-101", size: int = 10_000):
        self.client, self.course, self.size, self.calls = client, course, size, 0

    def __call__(self):
        self.calls += 1
        day = date(2020, 1, 1) + timedelta(days=self.calls)
        body = {
            "records": [
                {
                    "person": f"E{i:06d}",
                    "course": self.course,
                    "completed_on": day.isoformat(),
                    "result": "passed",
                    "hours": 2,
                }
                for i in range(1, self.size + 1)
            ]
        }
        response = self.client.post(
            "/api/v1/records", json=body, headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"}
        )
        assert response.status_code in (200, 201), response.text[:500]
        return response
