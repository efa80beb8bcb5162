/* Fuzz target for sim_export_hdr_parse (libcudasim: the header of an
 * exportable VMM allocation's descriptor, read by
 * cuMemImportFromShareableHandle from any fd it is given). Input: the
 * file's size (8 bytes, little-endian), then the bytes read from its start. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_export_hdr h;
	uint64_t file_size;

	if (size < sizeof(file_size))
		return 0;
	memcpy(&file_size, data, sizeof(file_size));
	if (sim_export_hdr_parse(data + 8, size - 8, file_size, &h) == 0) {
		/* what the importer relies on: a whole number of granules that
		 * the file holds after the header, exportable as a POSIX fd */
		if (!h.size || h.size % SIM_EXPORT_GRANULARITY ||
		    file_size != SIM_EXPORT_HDR_SIZE + h.size ||
		    !(h.handle_types & SIM_EXPORT_POSIX_FD) || h.magic != SIM_EXPORT_MAGIC)
			abort();
	}
	return 0;
}
