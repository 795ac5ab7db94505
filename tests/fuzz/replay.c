/*
 * replay.c - run a libFuzzer target over files without libFuzzer
 *
 * Usage: replay_TARGET FILE_OR_DIR...  Each file is passed whole to
 * LLVMFuzzerTestOneInput(); a directory's files are replayed in turn.
 * "make check" runs every corpus this way under gcc (and ASan/UBSan in the
 * sanitizer build), so a crasher kept in a corpus stays fixed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
replay_file(const char *path)
{
	unsigned char *data;
	struct stat sb;
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &sb) == -1) {
		perror(path);
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	data = malloc((size_t)sb.st_size + 1);
	n = data ? fread(data, 1, (size_t)sb.st_size, fp) : 0;
	fclose(fp);
	if (data == NULL || n != (size_t)sb.st_size) {
		free(data);
		return -1;
	}
	(void)LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *de;
	unsigned files = 0, bad = 0;
	struct stat sb;
	int i;
	DIR *d;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if ((d = opendir(argv[i])) == NULL) {
				perror(argv[i]);
				bad++;
				continue;
			}
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				(void)snprintf(path, sizeof(path), "%s/%s",
				    argv[i], de->d_name);
				files++;
				bad += replay_file(path) == -1;
			}
			closedir(d);
		} else {
			files++;
			bad += replay_file(argv[i]) == -1;
		}
	}
	printf("replayed %u inputs, %u unreadable\n", files, bad);
	return bad == 0 && files > 0 ? 0 : 1;
}
