"""``/doctor``: the mesh's risky states, for mesh admins (``lakemesh doctor``)."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import Diagnosis
from lakemesh.governance import doctor

router = APIRouter(prefix="/doctor", tags=["governance"])


@router.get(
    "",
    summary='Risky states, most severe first: {"findings": [{"kind", "severity", "resource", '
    '"message", "details"}], "counts": {severity: n}} (mesh admins)',
    response_model=Diagnosis,
)
def diagnose(session: SessionDep, actor: CurrentActor) -> Diagnosis:
    findings = doctor.diagnose(session, actor=actor)
    return Diagnosis.of(findings, doctor.severity_counts(findings))
