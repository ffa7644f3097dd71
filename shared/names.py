"""Names of the NATS streams, buckets, subjects and headers the services agree on."""

from typing import Final

USERS_BUCKET: Final = "users"
FUNCTIONS_BUCKET: Final = "functions"
INVOCATIONS_BUCKET: Final = "invocations"

FUNCTION_IDS_STREAM: Final = "FUNCTION_IDS"
FUNCTION_IDS_SUBJECT: Final = "faas.ids"

INVOCATIONS_STREAM: Final = "INVOCATIONS"
INVOCATION_SUBJECT_PREFIX: Final = "faas.invoke."
INVOCATION_SUBJECTS: Final = "faas.invoke.>"
EXECUTORS_CONSUMER: Final = "executors"
REPLY_SUBJECT_PREFIX: Final = "faas.reply."

MSG_ID_HEADER: Final = "Nats-Msg-Id"
REPLY_TO_HEADER: Final = "Faas-Reply-To"
DEADLINE_HEADER: Final = "Faas-Deadline"


def invocation_subject(function_id: int) -> str:
    """The subject an invocation of ``function_id`` is published on."""
    return f"{INVOCATION_SUBJECT_PREFIX}{function_id}"
