// SPDX-License-Identifier: Apache-2.0
// Unit tests for the CLI's output: tabwriter alignment, the `service ls`,
// `service ps` and `node ls` tables rendered from the JSON in the docker
// traces (must give the traces' text), inspect re-indenting, the PORTS
// column, --format templates, and go-units style sizes and durations.
#include "harness.h"

#include <stdio.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/cli_node.h"
#include "cli/cli_service.h"
#include "cli/cli_tasks.h"
#include "cli/format.h"
#include "cli/table.h"

static const char services_json[] =
    "[{\"ID\":\"j3e8bnzm8158hnau6zw0o46r6\",\"Version\":{\"Index\":165},\"C"
    "reatedAt\":\"2026-11-27T04:30:55.099609438Z\",\"UpdatedAt\":\"2026-11-"
    "27T04:30:55.099609438Z\",\"Spec\":{\"Name\":\"logger\",\"Labels\":{},\""
    "TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb:latest\",\"Args\":[\""
    "sh\",\"-c\",\"i=0; while true; do i=$((i+1)); echo \\\"stdout line $i\\\""
    "; echo \\\"stderr line $i\\\" >&2; sleep 1; done\"],\"Init\":false,\"D"
    "NSConfig\":{},\"Isolation\":\"default\"},\"Resources\":{\"Limits\":{},"
    "\"Reservations\":{}},\"Placement\":{},\"ForceUpdate\":0,\"Runtime\":\""
    "container\"},\"Mode\":{\"Replicated\":{\"Replicas\":1}},\"EndpointSpec"
    "\":{\"Mode\":\"vip\"}},\"Endpoint\":{\"Spec\":{}},\"ServiceStatus\":{\""
    "RunningTasks\":1,\"DesiredTasks\":1,\"CompletedTasks\":0}},{\"ID\":\"s"
    "3qdr2cawh465iqhf04niv4zw\",\"Version\":{\"Index\":158},\"CreatedAt\":\""
    "2026-11-27T04:30:28.32344308Z\",\"UpdatedAt\":\"2026-11-27T04:30:28.32"
    "4955424Z\",\"Spec\":{\"Name\":\"simple-server\",\"Labels\":{},\"TaskTe"
    "mplate\":{\"ContainerSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd"
    "\",\"-f\",\"-p\",\"8000\",\"-h\",\"/www\"],\"Init\":false,\"DNSConfig\""
    ":{},\"Isolation\":\"default\"},\"Resources\":{\"Limits\":{},\"Reservat"
    "ions\":{}},\"Placement\":{},\"ForceUpdate\":0,\"Runtime\":\"container\""
    "},\"Mode\":{\"Replicated\":{\"Replicas\":1}},\"EndpointSpec\":{\"Mode\""
    ":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"Publis"
    "hedPort\":8001,\"PublishMode\":\"ingress\"}]}},\"Endpoint\":{\"Spec\":"
    "{\"Mode\":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000"
    ",\"PublishedPort\":8001,\"PublishMode\":\"ingress\"}]},\"Ports\":[{\"P"
    "rotocol\":\"tcp\",\"TargetPort\":8000,\"PublishedPort\":8001,\"Publish"
    "Mode\":\"ingress\"}],\"VirtualIPs\":[{\"NetworkID\":\"joxct9o4tlsg0j1k"
    "qy3zgivsr\",\"Addr\":\"10.0.0.19/24\"}]},\"ServiceStatus\":{\"RunningT"
    "asks\":1,\"DesiredTasks\":1,\"CompletedTasks\":0}},{\"ID\":\"zr7bbf2dd"
    "fklkwn0stwosgnzc\",\"Version\":{\"Index\":100},\"CreatedAt\":\"2026-11"
    "-27T04:24:39.564422453Z\",\"UpdatedAt\":\"2026-11-27T04:24:39.56566435"
    "9Z\",\"Spec\":{\"Name\":\"w\",\"Labels\":{},\"TaskTemplate\":{\"Contai"
    "nerSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\""
    "8000\",\"-h\",\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\":"
    "\"default\"},\"Resources\":{\"Limits\":{},\"Reservations\":{}},\"Place"
    "ment\":{},\"ForceUpdate\":0,\"Runtime\":\"container\"},\"Mode\":{\"Rep"
    "licated\":{\"Replicas\":2}},\"EndpointSpec\":{\"Mode\":\"vip\",\"Ports"
    "\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"PublishedPort\":8000,\""
    "PublishMode\":\"ingress\"}]}},\"Endpoint\":{\"Spec\":{\"Mode\":\"vip\""
    ",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"PublishedPort\""
    ":8000,\"PublishMode\":\"ingress\"}]},\"Ports\":[{\"Protocol\":\"tcp\","
    "\"TargetPort\":8000,\"PublishedPort\":8000,\"PublishMode\":\"ingress\""
    "}],\"VirtualIPs\":[{\"NetworkID\":\"joxct9o4tlsg0j1kqy3zgivsr\",\"Addr"
    "\":\"10.0.0.14/24\"}]},\"ServiceStatus\":{\"RunningTasks\":2,\"Desired"
    "Tasks\":2,\"CompletedTasks\":0}}]";

static const char tasks1_json[] =
    "[{\"ID\":\"rhk9bsai1e6ybz8swojestyj4\",\"Version\":{\"Index\":162},\"C"
    "reatedAt\":\"2026-11-27T04:30:28.324549537Z\",\"UpdatedAt\":\"2026-11-"
    "27T04:30:29.4148888Z\",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\"Im"
    "age\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\","
    "\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\":\"default\"},\""
    "Resources\":{\"Limits\":{},\"Reservations\":{}},\"Placement\":{},\"For"
    "ceUpdate\":0},\"ServiceID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Slot\":1,\""
    "NodeID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Status\":{\"Timestamp\":\"202"
    "6-11-27T04:30:29.364125938Z\",\"State\":\"running\",\"Message\":\"star"
    "ted\",\"ContainerStatus\":{\"ContainerID\":\"7f78fcb348b6d00fd9f3e6389"
    "4ca2f023e48c0d580bf27e4e484857ce94c5bb9\",\"PID\":16575,\"ExitCode\":0"
    "},\"PortStatus\":{}},\"DesiredState\":\"running\",\"NetworksAttachment"
    "s\":[{\"Network\":{\"ID\":\"joxct9o4tlsg0j1kqy3zgivsr\",\"Version\":{\""
    "Index\":6},\"CreatedAt\":\"2026-11-27T04:23:39.992692462Z\",\"UpdatedA"
    "t\":\"2026-11-27T04:23:40.009324286Z\",\"Spec\":{\"Name\":\"ingress\","
    "\"Labels\":{},\"DriverConfiguration\":{},\"Ingress\":true,\"IPAMOption"
    "s\":{\"Driver\":{}},\"Scope\":\"swarm\"},\"DriverState\":{\"Name\":\"o"
    "verlay\",\"Options\":{\"com.docker.network.driver.overlay.vxlanid_list"
    "\":\"4096\"}},\"IPAMOptions\":{\"Driver\":{\"Name\":\"default\"},\"Con"
    "figs\":[{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\"}]}},\"Add"
    "resses\":[\"10.0.0.20/24\"]}]}]";

static const char tasks2_json[] =
    "[{\"ID\":\"6lh9xqc1binjzvacyhoiz0fst\",\"Version\":{\"Index\":194},\"C"
    "reatedAt\":\"2026-11-27T04:31:27.025498329Z\",\"UpdatedAt\":\"2026-11-"
    "27T04:31:41.620220094Z\",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\""
    "Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\""
    ",\"/www\"],\"Env\":[\"A=1\"],\"Init\":false,\"DNSConfig\":{},\"Isolati"
    "on\":\"default\"},\"Resources\":{\"Limits\":{},\"Reservations\":{}},\""
    "Placement\":{},\"ForceUpdate\":0},\"ServiceID\":\"s3qdr2cawh465iqhf04n"
    "iv4zw\",\"Slot\":3,\"NodeID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Status\""
    ":{\"Timestamp\":\"2026-11-27T04:31:41.569491277Z\",\"State\":\"running"
    "\",\"Message\":\"started\",\"ContainerStatus\":{\"ContainerID\":\"0a31"
    "6ce83635bbf4819c65eca4c7db97328ab57b2a63e0df28c71a83122e0da5\",\"PID\""
    ":18094,\"ExitCode\":0},\"PortStatus\":{}},\"DesiredState\":\"running\""
    ",\"NetworksAttachments\":[{\"Network\":{\"ID\":\"joxct9o4tlsg0j1kqy3zg"
    "ivsr\",\"Version\":{\"Index\":6},\"CreatedAt\":\"2026-11-27T04:23:39.9"
    "92692462Z\",\"UpdatedAt\":\"2026-11-27T04:23:40.009324286Z\",\"Spec\":"
    "{\"Name\":\"ingress\",\"Labels\":{},\"DriverConfiguration\":{},\"Ingre"
    "ss\":true,\"IPAMOptions\":{\"Driver\":{}},\"Scope\":\"swarm\"},\"Drive"
    "rState\":{\"Name\":\"overlay\",\"Options\":{\"com.docker.network.drive"
    "r.overlay.vxlanid_list\":\"4096\"}},\"IPAMOptions\":{\"Driver\":{\"Nam"
    "e\":\"default\"},\"Configs\":[{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":"
    "\"10.0.0.1\"}]}},\"Addresses\":[\"10.0.0.24/24\"]}]},{\"ID\":\"7jbagf7"
    "07dyzmiwfiun5ezu4n\",\"Version\":{\"Index\":183},\"CreatedAt\":\"2026-"
    "11-27T04:31:04.410922058Z\",\"UpdatedAt\":\"2026-11-27T04:31:25.911462"
    "037Z\",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\"Image\":\"bb:lates"
    "t\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\",\"/www\"],\"Init"
    "\":false,\"DNSConfig\":{},\"Isolation\":\"default\"},\"Resources\":{\""
    "Limits\":{},\"Reservations\":{}},\"Placement\":{},\"ForceUpdate\":0},\""
    "ServiceID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Slot\":2,\"NodeID\":\"s6uy"
    "js3s1yyllx9jdb7aw68f4\",\"Status\":{\"Timestamp\":\"2026-11-27T04:31:2"
    "5.870539387Z\",\"State\":\"shutdown\",\"Message\":\"shutdown\",\"Conta"
    "inerStatus\":{\"ContainerID\":\"67b44757fbf47bc867e65a051da4ab16fe9171"
    "59c2ae9a989e210c9c0051cf2d\",\"PID\":0,\"ExitCode\":137},\"PortStatus\""
    ":{}},\"DesiredState\":\"shutdown\",\"NetworksAttachments\":[{\"Network"
    "\":{\"ID\":\"joxct9o4tlsg0j1kqy3zgivsr\",\"Version\":{\"Index\":6},\"C"
    "reatedAt\":\"2026-11-27T04:23:39.992692462Z\",\"UpdatedAt\":\"2026-11-"
    "27T04:23:40.009324286Z\",\"Spec\":{\"Name\":\"ingress\",\"Labels\":{},"
    "\"DriverConfiguration\":{},\"Ingress\":true,\"IPAMOptions\":{\"Driver\""
    ":{}},\"Scope\":\"swarm\"},\"DriverState\":{\"Name\":\"overlay\",\"Opti"
    "ons\":{\"com.docker.network.driver.overlay.vxlanid_list\":\"4096\"}},\""
    "IPAMOptions\":{\"Driver\":{\"Name\":\"default\"},\"Configs\":[{\"Subne"
    "t\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\"}]}},\"Addresses\":[\"10.0"
    ".0.21/24\"]}]},{\"ID\":\"pn20ywd504dg1bqz21xwv41zm\",\"Version\":{\"In"
    "dex\":202},\"CreatedAt\":\"2026-11-27T04:31:41.622095822Z\",\"UpdatedA"
    "t\":\"2026-11-27T04:31:56.226103631Z\",\"Labels\":{},\"Spec\":{\"Conta"
    "inerSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\","
    "\"8000\",\"-h\",\"/www\"],\"Env\":[\"A=1\"],\"Init\":false,\"DNSConfig"
    "\":{},\"Isolation\":\"default\"},\"Resources\":{\"Limits\":{},\"Reserv"
    "ations\":{}},\"Placement\":{},\"ForceUpdate\":0},\"ServiceID\":\"s3qdr"
    "2cawh465iqhf04niv4zw\",\"Slot\":1,\"NodeID\":\"s6uyjs3s1yyllx9jdb7aw68"
    "f4\",\"Status\":{\"Timestamp\":\"2026-11-27T04:31:56.182081994Z\",\"St"
    "ate\":\"running\",\"Message\":\"started\",\"ContainerStatus\":{\"Conta"
    "inerID\":\"93231624dd44ae11b7e4f9cd7962b6717b1e1ea21118dfdb55188ea3006"
    "7f39a\",\"PID\":18232,\"ExitCode\":0},\"PortStatus\":{}},\"DesiredStat"
    "e\":\"running\",\"NetworksAttachments\":[{\"Network\":{\"ID\":\"joxct9"
    "o4tlsg0j1kqy3zgivsr\",\"Version\":{\"Index\":6},\"CreatedAt\":\"2026-1"
    "1-27T04:23:39.992692462Z\",\"UpdatedAt\":\"2026-11-27T04:23:40.0093242"
    "86Z\",\"Spec\":{\"Name\":\"ingress\",\"Labels\":{},\"DriverConfigurati"
    "on\":{},\"Ingress\":true,\"IPAMOptions\":{\"Driver\":{}},\"Scope\":\"s"
    "warm\"},\"DriverState\":{\"Name\":\"overlay\",\"Options\":{\"com.docke"
    "r.network.driver.overlay.vxlanid_list\":\"4096\"}},\"IPAMOptions\":{\""
    "Driver\":{\"Name\":\"default\"},\"Configs\":[{\"Subnet\":\"10.0.0.0/24"
    "\",\"Gateway\":\"10.0.0.1\"}]}},\"Addresses\":[\"10.0.0.25/24\"]}]},{\""
    "ID\":\"q17r03l1niiz55n7muvf88n9i\",\"Version\":{\"Index\":186},\"Creat"
    "edAt\":\"2026-11-27T04:31:12.475583331Z\",\"UpdatedAt\":\"2026-11-27T0"
    "4:31:27.023738252Z\",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\"Imag"
    "e\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\",\""
    "/www\"],\"Env\":[\"A=1\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\""
    ":\"default\"},\"Resources\":{\"Limits\":{},\"Reservations\":{}},\"Plac"
    "ement\":{},\"ForceUpdate\":0},\"ServiceID\":\"s3qdr2cawh465iqhf04niv4z"
    "w\",\"Slot\":2,\"NodeID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Status\":{\""
    "Timestamp\":\"2026-11-27T04:31:26.987325149Z\",\"State\":\"running\",\""
    "Message\":\"started\",\"ContainerStatus\":{\"ContainerID\":\"cadbb6662"
    "792deb54f20dee723f3ce9c18f2188e712fa824266234bc9f1523ad\",\"PID\":1794"
    "6,\"ExitCode\":0},\"PortStatus\":{}},\"DesiredState\":\"running\",\"Ne"
    "tworksAttachments\":[{\"Network\":{\"ID\":\"joxct9o4tlsg0j1kqy3zgivsr\""
    ",\"Version\":{\"Index\":6},\"CreatedAt\":\"2026-11-27T04:23:39.9926924"
    "62Z\",\"UpdatedAt\":\"2026-11-27T04:23:40.009324286Z\",\"Spec\":{\"Nam"
    "e\":\"ingress\",\"Labels\":{},\"DriverConfiguration\":{},\"Ingress\":t"
    "rue,\"IPAMOptions\":{\"Driver\":{}},\"Scope\":\"swarm\"},\"DriverState"
    "\":{\"Name\":\"overlay\",\"Options\":{\"com.docker.network.driver.over"
    "lay.vxlanid_list\":\"4096\"}},\"IPAMOptions\":{\"Driver\":{\"Name\":\""
    "default\"},\"Configs\":[{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0"
    ".0.1\"}]}},\"Addresses\":[\"10.0.0.23/24\"]}]},{\"ID\":\"qbj200ql607ss"
    "v9lkd1hxfhu6\",\"Version\":{\"Index\":191},\"CreatedAt\":\"2026-11-27T"
    "04:31:04.410981852Z\",\"UpdatedAt\":\"2026-11-27T04:31:40.508552032Z\""
    ",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\"Image\":\"bb:latest\",\""
    "Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\",\"/www\"],\"Init\":fal"
    "se,\"DNSConfig\":{},\"Isolation\":\"default\"},\"Resources\":{\"Limits"
    "\":{},\"Reservations\":{}},\"Placement\":{},\"ForceUpdate\":0},\"Servi"
    "ceID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Slot\":3,\"NodeID\":\"s6uyjs3s1"
    "yyllx9jdb7aw68f4\",\"Status\":{\"Timestamp\":\"2026-11-27T04:31:40.462"
    "813922Z\",\"State\":\"shutdown\",\"Message\":\"shutdown\",\"ContainerS"
    "tatus\":{\"ContainerID\":\"60508eef4a16752607382d4c45d51897ad778621503"
    "92697c5c71cf4f2cc58d3\",\"PID\":0,\"ExitCode\":137},\"PortStatus\":{}}"
    ",\"DesiredState\":\"shutdown\",\"NetworksAttachments\":[{\"Network\":{"
    "\"ID\":\"joxct9o4tlsg0j1kqy3zgivsr\",\"Version\":{\"Index\":6},\"Creat"
    "edAt\":\"2026-11-27T04:23:39.992692462Z\",\"UpdatedAt\":\"2026-11-27T0"
    "4:23:40.009324286Z\",\"Spec\":{\"Name\":\"ingress\",\"Labels\":{},\"Dr"
    "iverConfiguration\":{},\"Ingress\":true,\"IPAMOptions\":{\"Driver\":{}"
    "},\"Scope\":\"swarm\"},\"DriverState\":{\"Name\":\"overlay\",\"Options"
    "\":{\"com.docker.network.driver.overlay.vxlanid_list\":\"4096\"}},\"IP"
    "AMOptions\":{\"Driver\":{\"Name\":\"default\"},\"Configs\":[{\"Subnet\""
    ":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\"}]}},\"Addresses\":[\"10.0.0."
    "22/24\"]}]},{\"ID\":\"rhk9bsai1e6ybz8swojestyj4\",\"Version\":{\"Index"
    "\":199},\"CreatedAt\":\"2026-11-27T04:30:28.324549537Z\",\"UpdatedAt\""
    ":\"2026-11-27T04:31:55.114523938Z\",\"Labels\":{},\"Spec\":{\"Containe"
    "rSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8"
    "000\",\"-h\",\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\":\""
    "default\"},\"Resources\":{\"Limits\":{},\"Reservations\":{}},\"Placeme"
    "nt\":{},\"ForceUpdate\":0},\"ServiceID\":\"s3qdr2cawh465iqhf04niv4zw\""
    ",\"Slot\":1,\"NodeID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Status\":{\"Tim"
    "estamp\":\"2026-11-27T04:31:55.064649957Z\",\"State\":\"shutdown\",\"M"
    "essage\":\"shutdown\",\"ContainerStatus\":{\"ContainerID\":\"7f78fcb34"
    "8b6d00fd9f3e63894ca2f023e48c0d580bf27e4e484857ce94c5bb9\",\"PID\":0,\""
    "ExitCode\":137},\"PortStatus\":{}},\"DesiredState\":\"shutdown\",\"Net"
    "worksAttachments\":[{\"Network\":{\"ID\":\"joxct9o4tlsg0j1kqy3zgivsr\""
    ",\"Version\":{\"Index\":6},\"CreatedAt\":\"2026-11-27T04:23:39.9926924"
    "62Z\",\"UpdatedAt\":\"2026-11-27T04:23:40.009324286Z\",\"Spec\":{\"Nam"
    "e\":\"ingress\",\"Labels\":{},\"DriverConfiguration\":{},\"Ingress\":t"
    "rue,\"IPAMOptions\":{\"Driver\":{}},\"Scope\":\"swarm\"},\"DriverState"
    "\":{\"Name\":\"overlay\",\"Options\":{\"com.docker.network.driver.over"
    "lay.vxlanid_list\":\"4096\"}},\"IPAMOptions\":{\"Driver\":{\"Name\":\""
    "default\"},\"Configs\":[{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0"
    ".0.1\"}]}},\"Addresses\":[\"10.0.0.20/24\"]}]}]";

static const char nodes_json[] =
    "[{\"ID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Version\":{\"Index\":9},\"Cre"
    "atedAt\":\"2026-11-27T04:23:39.992659358Z\",\"UpdatedAt\":\"2026-11-27"
    "T04:23:40.598651134Z\",\"Spec\":{\"Labels\":{},\"Role\":\"manager\",\""
    "Availability\":\"active\"},\"Description\":{\"Hostname\":\"vm\",\"Plat"
    "form\":{\"Architecture\":\"x86_64\",\"OS\":\"linux\"},\"Resources\":{\""
    "NanoCPUs\":2000000000,\"MemoryBytes\":25276026880},\"Engine\":{\"Engin"
    "eVersion\":\"20.10.24+dfsg1\",\"Plugins\":[{\"Type\":\"Log\",\"Name\":"
    "\"awslogs\"},{\"Type\":\"Log\",\"Name\":\"fluentd\"},{\"Type\":\"Log\""
    ",\"Name\":\"gcplogs\"},{\"Type\":\"Log\",\"Name\":\"gelf\"},{\"Type\":"
    "\"Log\",\"Name\":\"journald\"},{\"Type\":\"Log\",\"Name\":\"json-file\""
    "},{\"Type\":\"Log\",\"Name\":\"local\"},{\"Type\":\"Log\",\"Name\":\"l"
    "ogentries\"},{\"Type\":\"Log\",\"Name\":\"splunk\"},{\"Type\":\"Log\","
    "\"Name\":\"syslog\"},{\"Type\":\"Network\",\"Name\":\"bridge\"},{\"Typ"
    "e\":\"Network\",\"Name\":\"host\"},{\"Type\":\"Network\",\"Name\":\"ip"
    "vlan\"},{\"Type\":\"Network\",\"Name\":\"macvlan\"},{\"Type\":\"Networ"
    "k\",\"Name\":\"null\"},{\"Type\":\"Network\",\"Name\":\"overlay\"},{\""
    "Type\":\"Volume\",\"Name\":\"local\"}]},\"TLSInfo\":{\"TrustRoot\":\"-"
    "----BEGIN CERTIFICATE-----\\nMIIBaTCCARCgAwIBAgIURTO3cFHymUSbz8kwxkybH"
    "nw6LQ4wCgYIKoZIzj0EAwIw\\nEzERMA8GA1UEAxMIc3dhcm0tY2EwHhcNMjYxMTI3MDQx"
    "OTAwWhcNNDYxMTIyMDQx\\nOTAwWjATMREwDwYDVQQDEwhzd2FybS1jYTBZMBMGByqGSM4"
    "9AgEGCCqGSM49AwEH\\nA0IABFxskiWRTCBL8FaBdLlXTuJlRePaCSgFNI0TABhoqOb7q1"
    "MbSea67hG+FA3V\\n2cbnZBZBdig9SWpUMVBP3vig3FujQjBAMA4GA1UdDwEB/wQEAwIBB"
    "jAPBgNVHRMB\\nAf8EBTADAQH/MB0GA1UdDgQWBBSM+slp2KhQV9bAPPh9uIKTO5qx6DAK"
    "BggqhkjO\\nPQQDAgNHADBEAiBn/dGh5PC23k7dK7G8t8LjgdmBAat9pg8vwQNT9zpCewI"
    "gdPF5\\nDrErlJW+s53sFX9oc9jNWMgBtmNG9or9YVdj4IA=\\n-----END CERTIFICAT"
    "E-----\\n\",\"CertIssuerSubject\":\"MBMxETAPBgNVBAMTCHN3YXJtLWNh\",\"C"
    "ertIssuerPublicKey\":\"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXGySJZFMIEv"
    "wVoF0uVdO4mVF49oJKAU0jRMAGGio5vurUxtJ5rruEb4UDdXZxudkFkF2KD1JalQxUE/e+"
    "KDcWw==\"}},\"Status\":{\"State\":\"ready\",\"Addr\":\"192.0.2.2\"},\""
    "ManagerStatus\":{\"Leader\":true,\"Reachability\":\"reachable\",\"Addr"
    "\":\"192.0.2.2:2377\"}}]";

static const char node_json[] =
    "{\"ID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Version\":{\"Index\":9},\"Crea"
    "tedAt\":\"2026-11-27T04:23:39.992659358Z\",\"UpdatedAt\":\"2026-11-27T"
    "04:23:40.598651134Z\",\"Spec\":{\"Labels\":{},\"Role\":\"manager\",\"A"
    "vailability\":\"active\"},\"Description\":{\"Hostname\":\"vm\",\"Platf"
    "orm\":{\"Architecture\":\"x86_64\",\"OS\":\"linux\"},\"Resources\":{\""
    "NanoCPUs\":2000000000,\"MemoryBytes\":25276026880},\"Engine\":{\"Engin"
    "eVersion\":\"20.10.24+dfsg1\",\"Plugins\":[{\"Type\":\"Log\",\"Name\":"
    "\"awslogs\"},{\"Type\":\"Log\",\"Name\":\"fluentd\"},{\"Type\":\"Log\""
    ",\"Name\":\"gcplogs\"},{\"Type\":\"Log\",\"Name\":\"gelf\"},{\"Type\":"
    "\"Log\",\"Name\":\"journald\"},{\"Type\":\"Log\",\"Name\":\"json-file\""
    "},{\"Type\":\"Log\",\"Name\":\"local\"},{\"Type\":\"Log\",\"Name\":\"l"
    "ogentries\"},{\"Type\":\"Log\",\"Name\":\"splunk\"},{\"Type\":\"Log\","
    "\"Name\":\"syslog\"},{\"Type\":\"Network\",\"Name\":\"bridge\"},{\"Typ"
    "e\":\"Network\",\"Name\":\"host\"},{\"Type\":\"Network\",\"Name\":\"ip"
    "vlan\"},{\"Type\":\"Network\",\"Name\":\"macvlan\"},{\"Type\":\"Networ"
    "k\",\"Name\":\"null\"},{\"Type\":\"Network\",\"Name\":\"overlay\"},{\""
    "Type\":\"Volume\",\"Name\":\"local\"}]},\"TLSInfo\":{\"TrustRoot\":\"-"
    "----BEGIN CERTIFICATE-----\\nMIIBaTCCARCgAwIBAgIURTO3cFHymUSbz8kwxkybH"
    "nw6LQ4wCgYIKoZIzj0EAwIw\\nEzERMA8GA1UEAxMIc3dhcm0tY2EwHhcNMjYxMTI3MDQx"
    "OTAwWhcNNDYxMTIyMDQx\\nOTAwWjATMREwDwYDVQQDEwhzd2FybS1jYTBZMBMGByqGSM4"
    "9AgEGCCqGSM49AwEH\\nA0IABFxskiWRTCBL8FaBdLlXTuJlRePaCSgFNI0TABhoqOb7q1"
    "MbSea67hG+FA3V\\n2cbnZBZBdig9SWpUMVBP3vig3FujQjBAMA4GA1UdDwEB/wQEAwIBB"
    "jAPBgNVHRMB\\nAf8EBTADAQH/MB0GA1UdDgQWBBSM+slp2KhQV9bAPPh9uIKTO5qx6DAK"
    "BggqhkjO\\nPQQDAgNHADBEAiBn/dGh5PC23k7dK7G8t8LjgdmBAat9pg8vwQNT9zpCewI"
    "gdPF5\\nDrErlJW+s53sFX9oc9jNWMgBtmNG9or9YVdj4IA=\\n-----END CERTIFICAT"
    "E-----\\n\",\"CertIssuerSubject\":\"MBMxETAPBgNVBAMTCHN3YXJtLWNh\",\"C"
    "ertIssuerPublicKey\":\"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXGySJZFMIEv"
    "wVoF0uVdO4mVF49oJKAU0jRMAGGio5vurUxtJ5rruEb4UDdXZxudkFkF2KD1JalQxUE/e+"
    "KDcWw==\"}},\"Status\":{\"State\":\"ready\",\"Addr\":\"192.0.2.2\"},\""
    "ManagerStatus\":{\"Leader\":true,\"Reachability\":\"reachable\",\"Addr"
    "\":\"192.0.2.2:2377\"}}";

static const char node_inspect_out[] =
    "[\n    {\n        \"ID\": \"s6uyjs3s1yyllx9jdb7aw68f4\",\n        \"Ve"
    "rsion\": {\n            \"Index\": 9\n        },\n        \"CreatedAt\""
    ": \"2026-11-27T04:23:39.992659358Z\",\n        \"UpdatedAt\": \"2026-1"
    "1-27T04:23:40.598651134Z\",\n        \"Spec\": {\n            \"Labels"
    "\": {},\n            \"Role\": \"manager\",\n            \"Availabilit"
    "y\": \"active\"\n        },\n        \"Description\": {\n            \""
    "Hostname\": \"vm\",\n            \"Platform\": {\n                \"Ar"
    "chitecture\": \"x86_64\",\n                \"OS\": \"linux\"\n        "
    "    },\n            \"Resources\": {\n                \"NanoCPUs\": 20"
    "00000000,\n                \"MemoryBytes\": 25276026880\n            }"
    ",\n            \"Engine\": {\n                \"EngineVersion\": \"20."
    "10.24+dfsg1\",\n                \"Plugins\": [\n                    {\n"
    "                        \"Type\": \"Log\",\n                        \""
    "Name\": \"awslogs\"\n                    },\n                    {\n  "
    "                      \"Type\": \"Log\",\n                        \"Na"
    "me\": \"fluentd\"\n                    },\n                    {\n    "
    "                    \"Type\": \"Log\",\n                        \"Name"
    "\": \"gcplogs\"\n                    },\n                    {\n      "
    "                  \"Type\": \"Log\",\n                        \"Name\""
    ": \"gelf\"\n                    },\n                    {\n           "
    "             \"Type\": \"Log\",\n                        \"Name\": \"j"
    "ournald\"\n                    },\n                    {\n            "
    "            \"Type\": \"Log\",\n                        \"Name\": \"js"
    "on-file\"\n                    },\n                    {\n            "
    "            \"Type\": \"Log\",\n                        \"Name\": \"lo"
    "cal\"\n                    },\n                    {\n                "
    "        \"Type\": \"Log\",\n                        \"Name\": \"logent"
    "ries\"\n                    },\n                    {\n               "
    "         \"Type\": \"Log\",\n                        \"Name\": \"splun"
    "k\"\n                    },\n                    {\n                  "
    "      \"Type\": \"Log\",\n                        \"Name\": \"syslog\""
    "\n                    },\n                    {\n                     "
    "   \"Type\": \"Network\",\n                        \"Name\": \"bridge\""
    "\n                    },\n                    {\n                     "
    "   \"Type\": \"Network\",\n                        \"Name\": \"host\"\n"
    "                    },\n                    {\n                       "
    " \"Type\": \"Network\",\n                        \"Name\": \"ipvlan\"\n"
    "                    },\n                    {\n                       "
    " \"Type\": \"Network\",\n                        \"Name\": \"macvlan\""
    "\n                    },\n                    {\n                     "
    "   \"Type\": \"Network\",\n                        \"Name\": \"null\"\n"
    "                    },\n                    {\n                       "
    " \"Type\": \"Network\",\n                        \"Name\": \"overlay\""
    "\n                    },\n                    {\n                     "
    "   \"Type\": \"Volume\",\n                        \"Name\": \"local\"\n"
    "                    }\n                ]\n            },\n            "
    "\"TLSInfo\": {\n                \"TrustRoot\": \"-----BEGIN CERTIFICAT"
    "E-----\\nMIIBaTCCARCgAwIBAgIURTO3cFHymUSbz8kwxkybHnw6LQ4wCgYIKoZIzj0EA"
    "wIw\\nEzERMA8GA1UEAxMIc3dhcm0tY2EwHhcNMjYxMTI3MDQxOTAwWhcNNDYxMTIyMDQx"
    "\\nOTAwWjATMREwDwYDVQQDEwhzd2FybS1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH\\n"
    "A0IABFxskiWRTCBL8FaBdLlXTuJlRePaCSgFNI0TABhoqOb7q1MbSea67hG+FA3V\\n2cb"
    "nZBZBdig9SWpUMVBP3vig3FujQjBAMA4GA1UdDwEB/wQEAwIBBjAPBgNVHRMB\\nAf8EBT"
    "ADAQH/MB0GA1UdDgQWBBSM+slp2KhQV9bAPPh9uIKTO5qx6DAKBggqhkjO\\nPQQDAgNHA"
    "DBEAiBn/dGh5PC23k7dK7G8t8LjgdmBAat9pg8vwQNT9zpCewIgdPF5\\nDrErlJW+s53s"
    "FX9oc9jNWMgBtmNG9or9YVdj4IA=\\n-----END CERTIFICATE-----\\n\",\n      "
    "          \"CertIssuerSubject\": \"MBMxETAPBgNVBAMTCHN3YXJtLWNh\",\n  "
    "              \"CertIssuerPublicKey\": \"MFkwEwYHKoZIzj0CAQYIKoZIzj0DA"
    "QcDQgAEXGySJZFMIEvwVoF0uVdO4mVF49oJKAU0jRMAGGio5vurUxtJ5rruEb4UDdXZxud"
    "kFkF2KD1JalQxUE/e+KDcWw==\"\n            }\n        },\n        \"Stat"
    "us\": {\n            \"State\": \"ready\",\n            \"Addr\": \"19"
    "2.0.2.2\"\n        },\n        \"ManagerStatus\": {\n            \"Lea"
    "der\": true,\n            \"Reachability\": \"reachable\",\n          "
    "  \"Addr\": \"192.0.2.2:2377\"\n        }\n    }\n]\n";

/* A context writing to memory, with a fixed clock. */
struct mem_ctx {
    struct cli_ctx ctx;
    char *out, *err;
    size_t olen, elen;
};

static void mem_open(struct mem_ctx *m, int64_t now)
{
    memset(m, 0, sizeof(*m));
    m->ctx.out = open_memstream(&m->out, &m->olen);
    m->ctx.err = open_memstream(&m->err, &m->elen);
    m->ctx.now = now;
    snprintf(m->ctx.path, sizeof(m->ctx.path), "shoal");
}

static void mem_close(struct mem_ctx *m)
{
    fclose(m->ctx.out);
    fclose(m->ctx.err);
}

static void mem_free(struct mem_ctx *m)
{
    free(m->out);
    free(m->err);
}

static void test_tabwriter(void)
{
    struct cli_table t;
    cli_table_init(&t);
    cli_table_add(&t, "A\tBB\tC");
    cli_table_add(&t, "longer-cell-here\t\tlast");
    struct buf b;
    buf_init(&b);
    cli_table_render(&t, &b);
    CHECK_STR(b.data, "A                  BB        C\n"
                      "longer-cell-here             last\n");
    buf_fini(&b);
    cli_table_fini(&t);
    /* Cells are measured in characters, not bytes. */
    cli_table_init(&t);
    cli_table_add(&t, "h…\tx");
    buf_init(&b);
    cli_table_render(&t, &b);
    CHECK_STR(b.data, "h…        x\n");
    buf_fini(&b);
    cli_table_fini(&t);
}

static void test_service_ls(void)
{
    struct mem_ctx m;
    mem_open(&m, 0);
    json_t *svcs = json_loads(services_json, 0, NULL);
    struct err err = {0};
    CHECK_INT(cli_service_print_list(&m.ctx, svcs, NULL, false, &err), 0);
    mem_close(&m);
    CHECK_STR(
        m.out,
        "ID             NAME            MODE         REPLICAS   IMAGE     "
        "  PORTS\n"
        "j3e8bnzm8158   logger          replicated   1/1        "
        "bb:latest   \n"
        "s3qdr2cawh46   simple-server   replicated   1/1        "
        "bb:latest   *:8001->8000/tcp\n"
        "zr7bbf2ddfkl   w               replicated   2/2        "
        "bb:latest   *:8000->8000/tcp\n");
    mem_free(&m);

    /* -q and --format */
    mem_open(&m, 0);
    CHECK_INT(cli_service_print_list(&m.ctx, svcs, NULL, true, &err), 0);
    mem_close(&m);
    CHECK_STR(m.out, "j3e8bnzm8158\ns3qdr2cawh46\nzr7bbf2ddfkl\n");
    mem_free(&m);
    mem_open(&m, 0);
    CHECK_INT(cli_service_print_list(&m.ctx, svcs, "{{.Name}}: {{.Replicas}}",
                                     false, &err),
              0);
    mem_close(&m);
    CHECK_STR(m.out, "logger: 1/1\nsimple-server: 1/1\nw: 2/2\n");
    mem_free(&m);
    mem_open(&m, 0);
    CHECK_INT(cli_service_print_list(
                  &m.ctx, svcs, "table {{.Name}}\\t{{.Mode}}", false, &err),
              0);
    mem_close(&m);
    CHECK_STR(m.out, "NAME            MODE\nlogger          replicated\n"
                     "simple-server   replicated\nw               "
                     "replicated\n");
    mem_free(&m);
    mem_open(&m, 0);
    CHECK_INT(cli_service_print_list(&m.ctx, svcs, "{{.Bogus}}", false, &err),
              -1);
    CHECK_STR(err.msg, "template: can't evaluate field Bogus");
    CHECK_INT(cli_service_print_list(&m.ctx, svcs, "{{json .}}x{{if .ID}}",
                                     false, &err),
              -1);
    mem_close(&m);
    mem_free(&m);
    json_decref(svcs);
}

static json_t *names(void)
{
    json_t *n = json_object();
    json_object_set_new(n, "service/s3qdr2cawh465iqhf04niv4zw",
                        json_string("simple-server"));
    json_object_set_new(n, "node/s6uyjs3s1yyllx9jdb7aw68f4", json_string("vm"));
    return n;
}

static void test_service_ps(void)
{
    struct mem_ctx m;
    struct err err = {0};
    json_t *nm = names();
    /* first `service ps` of trace 03, 33 s after the task started */
    mem_open(&m, 1795753829364125938LL + 33500000000LL);
    json_t *tasks = json_loads(tasks1_json, 0, NULL);
    CHECK_INT(
        cli_task_print(&m.ctx, NULL, nm, tasks, true, false, false, NULL, &err),
        0);
    mem_close(&m);
    CHECK_STR(m.out, "ID             NAME              IMAGE       NODE      "
                     "DESIRED STATE   CURRENT STATE            ERROR     "
                     "PORTS\n"
                     "rhk9bsai1e6y   simple-server.1   bb:latest   vm        "
                     "Running         Running 33 seconds ago             \n");
    mem_free(&m);
    json_decref(tasks);

    /* after the rolling update: history rows under each slot */
    mem_open(&m, 1795753922000000000LL);
    tasks = json_loads(tasks2_json, 0, NULL);
    CHECK_INT(
        cli_task_print(&m.ctx, NULL, nm, tasks, true, false, false, NULL, &err),
        0);
    mem_close(&m);
    CHECK_STR(m.out,
              "ID             NAME                  IMAGE       NODE      "
              "DESIRED STATE   CURRENT STATE             ERROR     PORTS\n"
              "pn20ywd504dg   simple-server.1       bb:latest   vm        "
              "Running         Running 5 seconds ago               \n"
              "rhk9bsai1e6y    \\_ simple-server.1   bb:latest   vm        "
              "Shutdown        Shutdown 6 seconds ago              \n"
              "q17r03l1niiz   simple-server.2       bb:latest   vm        "
              "Running         Running 35 seconds ago              \n"
              "7jbagf707dyz    \\_ simple-server.2   bb:latest   vm        "
              "Shutdown        Shutdown 36 seconds ago             \n"
              "6lh9xqc1binj   simple-server.3       bb:latest   vm        "
              "Running         Running 20 seconds ago              \n"
              "qbj200ql607s    \\_ simple-server.3   bb:latest   vm        "
              "Shutdown        Shutdown 21 seconds ago             \n");
    mem_free(&m);

    /* errors are quoted and truncated; -q prints full IDs */
    json_t *t0 = json_array_get(tasks, 0);
    json_object_set_new(jx_obj(t0, "Status"), "Err",
                        json_string("starting container failed: no such "
                                    "image bb:latest"));
    mem_open(&m, 1795753922000000000LL);
    CHECK_INT(cli_task_print(&m.ctx, NULL, nm, tasks, true, false, false,
                             "{{.Error}}", &err),
              0);
    mem_close(&m);
    CHECK(strstr(m.out, "\n\"starting container failed: no…\"\n") != NULL);
    mem_free(&m);
    mem_open(&m, 1795753922000000000LL);
    CHECK_INT(
        cli_task_print(&m.ctx, NULL, nm, tasks, false, false, true, NULL, &err),
        0);
    mem_close(&m);
    /* six full 25-character IDs, one per line */
    CHECK_INT(strlen(m.out), 6 * 26);
    CHECK(strncmp(m.out, "pn20ywd504dg", 12) == 0);
    mem_free(&m);
    json_decref(tasks);
    json_decref(nm);
}

static void test_node_ls(void)
{
    struct mem_ctx m;
    struct err err = {0};
    json_t *nodes = json_loads(nodes_json, 0, NULL);
    mem_open(&m, 0);
    CHECK_INT(cli_node_print_list(&m.ctx, nodes, "s6uyjs3s1yyllx9jdb7aw68f4",
                                  NULL, false, &err),
              0);
    mem_close(&m);
    CHECK_STR(m.out, "ID                            HOSTNAME   STATUS    "
                     "AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n"
                     "s6uyjs3s1yyllx9jdb7aw68f4 *   vm         Ready     "
                     "Active         Leader           20.10.24+dfsg1\n");
    mem_free(&m);
    /* a second, worker node sorts by hostname and has no manager status */
    json_t *w = json_deep_copy(json_array_get(nodes, 0));
    json_object_set_new(w, "ID", json_string("w2node"));
    json_object_del(w, "ManagerStatus");
    json_object_set_new(jx_obj(w, "Description"), "Hostname",
                        json_string("a-worker"));
    json_object_set_new(jx_obj(w, "Spec"), "Availability",
                        json_string("drain"));
    json_array_append_new(nodes, w);
    mem_open(&m, 0);
    CHECK_INT(cli_node_print_list(&m.ctx, nodes, "s6uyjs3s1yyllx9jdb7aw68f4",
                                  NULL, false, &err),
              0);
    mem_close(&m);
    CHECK_STR(m.out, "ID                            HOSTNAME   STATUS    "
                     "AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n"
                     "w2node                        a-worker   Ready     "
                     "Drain                           20.10.24+dfsg1\n"
                     "s6uyjs3s1yyllx9jdb7aw68f4 *   vm         Ready     "
                     "Active         Leader           20.10.24+dfsg1\n");
    mem_free(&m);
    json_decref(nodes);
}

static void test_inspect_indent(void)
{
    struct mem_ctx m;
    mem_open(&m, 0);
    char *raws[] = {(char *)node_json};
    cli_print_inspect(&m.ctx, raws, 1);
    mem_close(&m);
    CHECK_STR(m.out, node_inspect_out);
    mem_free(&m);
    mem_open(&m, 0);
    cli_print_inspect(&m.ctx, NULL, 0);
    mem_close(&m);
    CHECK_STR(m.out, "[]\n");
    mem_free(&m);
    struct buf b;
    buf_init(&b);
    CHECK_INT(cli_json_indent("{\"a\":[1,{\"b\":\"x,y:\\\"z\"}],\"e\":[]}", 33,
                              "", &b),
              0);
    CHECK_STR(b.data, "{\n    \"a\": [\n        1,\n        {\n            "
                      "\"b\": \"x,y:\\\"z\"\n        }\n    ],\n    \"e\": "
                      "[]\n}");
    buf_fini(&b);
}

static void test_inspect_format(void)
{
    struct mem_ctx m;
    struct err err = {0};
    char *raws[] = {(char *)node_json};
    mem_open(&m, 0);
    CHECK_INT(cli_print_inspect_format(
                  &m.ctx, raws, 1,
                  "{{.ID}} {{.Description.Hostname}} {{json .Spec}} "
                  "{{.ManagerStatus.Leader}} {{.Spec.Labels}} {{.Nope}}",
                  &err),
              0);
    mem_close(&m);
    CHECK_STR(m.out, "s6uyjs3s1yyllx9jdb7aw68f4 vm {\"Labels\":{},\"Role\":"
                     "\"manager\",\"Availability\":\"active\"} true map[] "
                     "<no value>\n");
    mem_free(&m);
    mem_open(&m, 0);
    CHECK_INT(
        cli_print_inspect_format(&m.ctx, raws, 1, "{{if .ID}}x{{end}}", &err),
        -1);
    mem_close(&m);
    CHECK(strstr(err.msg, "unsupported action {{if .ID}}") != NULL);
    mem_free(&m);
}

static void test_ports_column(void)
{
    json_t *s = json_loads(
        "{\"Endpoint\":{\"Ports\":["
        "{\"Protocol\":\"tcp\",\"TargetPort\":81,\"PublishedPort\":8081,"
        "\"PublishMode\":\"ingress\"},"
        "{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":8080,"
        "\"PublishMode\":\"ingress\"},"
        "{\"Protocol\":\"udp\",\"TargetPort\":53,\"PublishedPort\":53,"
        "\"PublishMode\":\"ingress\"},"
        "{\"Protocol\":\"tcp\",\"TargetPort\":9,\"PublishedPort\":9,"
        "\"PublishMode\":\"host\"}]}}",
        0, NULL);
    char *p = cli_service_ports(s);
    CHECK_STR(p, "*:8080-8081->80-81/tcp, *:53->53/udp");
    free(p);
    json_decref(s);
}

static void test_units(void)
{
    char out[64];
    cli_fmt_human_size(4261000, 3, out, sizeof(out));
    CHECK_STR(out, "4.26MB");
    cli_fmt_human_size(999, 3, out, sizeof(out));
    CHECK_STR(out, "999B");
    cli_fmt_human_size(187654321, 3, out, sizeof(out));
    CHECK_STR(out, "188MB");
    cli_fmt_bytes_size(25276026880.0, out, sizeof(out));
    CHECK_STR(out, "23.54GiB");
    cli_fmt_bytes_size(536870912, out, sizeof(out));
    CHECK_STR(out, "512MiB");
    cli_fmt_duration(5000000000LL, out, sizeof(out));
    CHECK_STR(out, "5s");
    cli_fmt_duration(90000000000LL, out, sizeof(out));
    CHECK_STR(out, "1m30s");
    cli_fmt_duration(7776000000000000LL, out, sizeof(out));
    CHECK_STR(out, "2160h0m0s");
    cli_fmt_duration(1500000, out, sizeof(out));
    CHECK_STR(out, "1.5ms");
    cli_fmt_duration(0, out, sizeof(out));
    CHECK_STR(out, "0s");
    cli_fmt_float(0.5, false, out, sizeof(out));
    CHECK_STR(out, "0.5");
    cli_fmt_float((double)(float)0.1, true, out, sizeof(out));
    CHECK_STR(out, "0.1");
    cli_fmt_float(2, false, out, sizeof(out));
    CHECK_STR(out, "2");

    int64_t t0 = 1795753829364125938LL;
    char *a =
        cli_fmt_ago("2026-11-27T04:30:29.364125938Z", t0 + 33500000000LL, true);
    CHECK_STR(a, "33 seconds ago");
    free(a);
    a = cli_fmt_ago("2026-11-27T04:30:29.364125938Z", t0 + 500000000LL, true);
    CHECK_STR(a, "less than a second ago");
    free(a);
    a = cli_fmt_ago("2026-11-27T04:30:29.364125938Z", t0 + 70000000000LL,
                    false);
    CHECK_STR(a, "About a minute ago");
    free(a);

    cli_fmt_trunc_id("sha256:aaaa1111bbbb2222cccc", out, sizeof(out));
    CHECK_STR(out, "aaaa1111bbbb");
    char *s = cli_fmt_pretty("running");
    CHECK_STR(s, "Running");
    free(s);
    s = cli_fmt_ellipsis("httpd -f -p 8000 -h /www", 20);
    CHECK_STR(s, "httpd -f -p 8000 -h…");
    free(s);
    s = cli_fmt_image_familiar("docker.io/library/nginx:1.25@sha256:abc");
    CHECK_STR(s, "nginx:1.25");
    free(s);
    s = cli_image_normalize("bb");
    CHECK_STR(s, "bb:latest");
    free(s);
    s = cli_image_normalize("localhost:5000/app");
    CHECK_STR(s, "localhost:5000/app:latest");
    free(s);
    s = cli_image_normalize("bb:v1");
    CHECK_STR(s, "bb:v1");
    free(s);

    CHECK(cli_natural_cmp("svc.2", "svc.10") < 0);
    CHECK(cli_natural_cmp("a", "b") < 0);
    CHECK(cli_natural_cmp("x10", "x10") == 0);
    CHECK(cli_natural_cmp("x010", "x10") > 0);
}

int main(void)
{
    RUN(test_tabwriter);
    RUN(test_service_ls);
    RUN(test_service_ps);
    RUN(test_node_ls);
    RUN(test_inspect_indent);
    RUN(test_inspect_format);
    RUN(test_ports_column);
    RUN(test_units);
    HARNESS_END();
}
