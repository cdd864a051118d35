/* vifwalld: the appliance daemon. Placeholder until the data plane lands (issue 4). */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vifwalld: the data plane is not built yet\n");
	return 1;
}
