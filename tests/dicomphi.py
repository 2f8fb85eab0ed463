"""A DICOM file with identifying values planted in every attribute that may identify a
patient (PS3.15's basic profile list, plus every text attribute of the file outside the
kept allow-list), and a search for them in whatever the app writes or answers."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

from formatfactory import dicom_path

#: Attributes that identify a patient, a visit, a clinician or a device (PS3.15 E.1-1).
PHI_KEYWORDS = (
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientBirthTime",
    "PatientSex", "PatientAge", "PatientSize", "PatientWeight", "PatientAddress",
    "PatientTelephoneNumbers", "PatientMotherBirthName", "PatientBirthName", "OtherPatientIDs",
    "OtherPatientNames", "MilitaryRank", "BranchOfService", "MedicalRecordLocator",
    "EthnicGroup", "Occupation", "AdditionalPatientHistory", "PatientComments",
    "CountryOfResidence", "RegionOfResidence", "PatientReligiousPreference",
    "ResponsiblePerson", "ResponsibleOrganization", "ReferringPhysicianName",
    "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "PerformingPhysicianName", "NameOfPhysiciansReadingStudy", "OperatorsName",
    "RequestingPhysician", "PhysiciansOfRecord", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName", "StationName", "DeviceSerialNumber", "AccessionNumber",
    "StudyID", "StudyTime", "SeriesDate", "SeriesTime", "AcquisitionDate", "ContentDate",
    "ContentTime", "InstanceCreationDate", "InstanceCreatorUID", "StudyInstanceUID",
    "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID", "ImageComments",
    "RequestedProcedureDescription", "PerformedProcedureStepDescription",
    "AdmittingDiagnosesDescription", "ProtocolName", "DerivationDescription",
)  # fmt: skip
#: What the issue allows out of a DICOM file; the test plants values in everything else.
ALLOWED = frozenset(
    {
        "Modality",
        "BodyPartExamined",
        "StudyDescription",
        "SeriesDescription",
        "StudyDate",
        "Manufacturer",
    }
)
_TEXT = {"PN", "LO", "SH", "ST", "LT", "UT", "UC", "AE", "CS", "UR"}
_NEVER = {"SpecificCharacterSet"}  # the file's text encoding, not a value
#: Text every planted text value contains; UIDs start with UID_MARK.
TEXT_MARK = "PHIMARK"
UID_MARK = "1.2.826.0.1.3680043.99."


def _marker(vr: str, n: int) -> object | None:
    """A value for VR ``vr`` that no output may contain (the n-th planted)."""
    if vr in _TEXT:
        return f"{TEXT_MARK}{n:02d}" if vr in ("CS", "AE", "SH") else f"{TEXT_MARK}{n:02d}^Zed"
    return {
        "DA": f"190102{n % 28 + 1:02d}",
        "TM": f"23{n % 60:02d}59",
        "DT": f"190102{n % 28 + 1:02d}235959",
        "UI": f"{UID_MARK}{n}",
        "AS": "093Y",
        "DS": "81.234",
        "IS": "77777",
    }.get(vr)


def planted_dicom() -> tuple[bytes, dict[str, object]]:
    """CT_small.dcm with a marker in every identifying attribute: (file bytes, what was
    planted by keyword). Kept attributes (the allow-list) are left as they are."""
    import pydicom
    from pydicom.datadict import dictionary_VR

    ds = pydicom.dcmread(dicom_path("CT_small.dcm"))
    present = {
        element.keyword
        for element in ds
        if element.keyword and element.VR in _TEXT | {"DA", "TM", "DT", "UI", "AS"}
        and element.tag.group not in (0x0002, 0x0028, 0x7FE0)
    }  # fmt: skip
    planted: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n, keyword in enumerate(sorted((set(PHI_KEYWORDS) | present) - ALLOWED - _NEVER)):
            value = _marker(dictionary_VR(keyword).split(" ")[0], n)
            if value is not None:
                setattr(ds, keyword, value)
                planted[keyword] = value
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=False)
    return out.getvalue(), planted


def leaks(text: str, planted: dict[str, object]) -> list[str]:
    """The planted values (or their reformatted dates) found in ``text``; ids, hashes and
    paths must be taken out first (hex digits can spell a date)."""
    found = [str(v) for v in planted.values() if str(v) in text]
    found += re.findall(rf"(?i){TEXT_MARK}\d\d|{re.escape(UID_MARK)}\d+|1901-?02-?\d\d", text)
    return sorted(set(found))


def scrubbed(texts: Iterable[str]) -> str:
    """``texts`` joined, with 64-hex ids and paths (which hold ids) removed."""
    joined = "\n".join(texts)
    joined = re.sub(r"[0-9a-f]{64}(\.\w+)?", "<id>", joined)
    return re.sub(r"/[^\s\"',]+", "<path>", joined)


def raw_leaks(folder: Path) -> list[str]:
    """Files under ``folder`` whose bytes hold a planted text or UID marker (the store's
    SQLite and index files included); dates are not looked for in raw bytes."""
    pattern = re.compile(rb"(?i)" + TEXT_MARK.encode() + rb"|" + re.escape(UID_MARK.encode()))
    return [
        str(p) for p in sorted(folder.rglob("*")) if p.is_file() and pattern.search(p.read_bytes())
    ]
