#!/usr/bin/env python3
"""nmap_xml_ports.py FILE.xml: one line per <port> of an nmap-style XML file (nmap's
or scanfw's -oX): "protocol/portid state reason service", "-" for a missing field."""
import sys
import xml.etree.ElementTree as ET

for port in ET.parse(sys.argv[1]).iter("port"):
    st = port.find("state")
    sv = port.find("service")
    state = st.get("state") if st is not None else "-"
    reason = (st.get("reason") if st is not None else None) or "-"
    service = (sv.get("name") if sv is not None else None) or "-"
    print(f'{port.get("protocol")}/{port.get("portid")} {state} {reason} {service}')
