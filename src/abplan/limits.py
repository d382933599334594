"""Caps on every read of untrusted bytes. The README's Reliability section lists them."""

from __future__ import annotations

MIB = 1024 * 1024

MAX_TEXT_INPUT_BYTES = 64 * MIB  # a Markdown, text or .tex file
MAX_PDF_BYTES = 256 * MIB
MAX_PDF_PAGES = 2000  # pages read; a PDF that claims more is read up to this many and says so
MAX_ARCHIVE_MEMBERS = 5_000  # files, folders and links
MAX_ARCHIVE_TOTAL_BYTES = 512 * MIB  # unpacked size of one archive
MAX_ARCHIVE_MEMBER_BYTES = 128 * MIB
MAX_ARCHIVE_NAME_BYTES = 4096  # a member name, GNU long names included
MAX_DOWNLOAD_BYTES = 128 * MIB
DOWNLOAD_DEADLINE_S = 120.0  # wall clock for one download, trickling servers included
MAX_DECOMPRESSED_BYTES = 512 * MIB  # a gzipped e-print, streamed
MAX_IMPORT_LINE_BYTES = 64 * MIB  # one line of an imported batch results file
MAX_RESPONSE_FILE_BYTES = 16 * MIB  # one hand-written reply file
MAX_LM_REPLY_BYTES = 64 * MIB  # one HTTP reply from a provider
MAX_ID_BYTES = 200  # a task id used as a file name
