"""Images for an endpoint without vision, under IMAGE_HANDOFF_PLACEHOLDER.

Under IMAGE_HANDOFF_EXCLUDE such an endpoint is never chosen (eligibility excludes it with
MODALITY_UNSUPPORTED), so this module only ever runs for the placeholder policy. The placeholder
carries the image's description, which is what a text-only model can still use.
"""

from __future__ import annotations

from rolemodel.v1 import conversation_pb2, decision_pb2
from rolemodel_router.handoff.transforms import TransformLog

C = conversation_pb2


def placeholder_text(image: C.ImagePart) -> str:
    """``[image: <description>]``, or a note that the image had none."""
    description = image.description.strip()
    return f"[image: {description}]" if description else "[image: no description was given]"


def _has_image(message: C.Message) -> bool:
    for part in message.parts:
        if part.HasField("image"):
            return True
        if part.HasField("tool_result") and any(piece.HasField("image") for piece in part.tool_result.content):
            return True
    return False


def replace_images(message: C.Message, index: int, log: TransformLog) -> C.Message:
    """``message`` with each image, also inside tool results, replaced by its placeholder text."""
    if not _has_image(message):
        return message
    changed = C.Message()
    changed.CopyFrom(message)
    for part in changed.parts:
        if part.HasField("image"):
            text = placeholder_text(part.image)
            part.text.CopyFrom(C.TextPart(text=text))  # setting the oneof clears the image
        elif part.HasField("tool_result"):
            for piece in part.tool_result.content:
                if piece.HasField("image"):
                    piece.text.CopyFrom(C.TextPart(text=placeholder_text(piece.image)))
    log.add(
        decision_pb2.HANDOFF_TRANSFORM_KIND_IMAGE_PLACEHOLDER,
        index,
        "images replaced by text placeholders with their descriptions: the target has no vision",
    )
    return changed
