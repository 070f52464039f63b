// SPDX-License-Identifier: Apache-2.0
// shoald: the shoal daemon (placeholder until the daemon lands).
int main(void)
{
    return 0;
}
