#include <stdio.h>
#include "version.h"

int main(void) {
    printf("hello %s\n", HELLO_VERSION);
    return 0;
}
