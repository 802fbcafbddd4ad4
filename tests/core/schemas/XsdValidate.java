import java.io.File;
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.xml.sax.SAXParseException;

/** Validates XML files against an XML schema: java XsdValidate.java SCHEMA FILE...; exit 1 on the first error. */
public class XsdValidate {
    public static void main(String[] args) throws Exception {
        Validator validator = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI)
                .newSchema(new File(args[0])).newValidator();
        for (int i = 1; i < args.length; i++) {
            try {
                validator.validate(new StreamSource(new File(args[i])));
            } catch (SAXParseException e) {
                System.out.println(args[i] + ":" + e.getLineNumber() + ": " + e.getMessage());
                System.exit(1);
            }
            System.out.println(args[i] + ": valid");
        }
    }
}
